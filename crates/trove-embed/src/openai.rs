//! placeholder
pub struct OpenAiConfig;
pub struct OpenAiCompatible;
