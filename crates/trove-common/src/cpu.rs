//! What the processor can run, for the hand-written kernels (embedding products, vector
//! scans): checked at run time, so one binary runs everywhere and is fast where it can be.

/// AVX-512 F, BW and VNNI (`vpdpbusd`: 64 byte products summed into 16 lanes at once).
pub fn avx512_vnni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// AVX-512 F and BF16 (`vdpbf16ps`: bfloat16 pairs multiplied into f32 lanes).
pub fn avx512_bf16() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
