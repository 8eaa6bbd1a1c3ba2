//! Blocking client-side rate limit: requests per minute and (estimated) tokens per minute.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Requests are spaced evenly (`60 s / rpm` apart, no burst), so a provider's per-second
/// enforcement of the same quota is never hit. Tokens use a bucket holding one minute's
/// budget that refills continuously; a request larger than the whole budget waits for a
/// full bucket and then goes through. A limit of 0 disables that check.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    request_interval: Option<Duration>,
    tokens_per_minute: f64,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    next_request: Instant,
    tokens: f64,
    refilled_at: Instant,
}

impl RateLimiter {
    pub(crate) fn new(requests_per_minute: u32, tokens_per_minute: u32) -> Self {
        let now = Instant::now();
        Self {
            request_interval: (requests_per_minute > 0)
                .then(|| Duration::from_secs_f64(60.0 / f64::from(requests_per_minute))),
            tokens_per_minute: f64::from(tokens_per_minute),
            state: Mutex::new(State {
                next_request: now,
                tokens: f64::from(tokens_per_minute),
                refilled_at: now,
            }),
        }
    }

    /// Reserves one request of `tokens` estimated tokens and returns how long the caller
    /// must sleep before sending it.
    pub(crate) fn reserve(&self, tokens: u64) -> Duration {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let mut start = now;
        if let Some(interval) = self.request_interval {
            start = start.max(s.next_request);
            s.next_request = start + interval;
        }
        if self.tokens_per_minute > 0.0 {
            let per_sec = self.tokens_per_minute / 60.0;
            // Refill up to `now`.
            let elapsed = now.saturating_duration_since(s.refilled_at).as_secs_f64();
            s.tokens = (s.tokens + elapsed * per_sec).min(self.tokens_per_minute);
            s.refilled_at = now;
            let need = (tokens as f64).min(self.tokens_per_minute);
            if s.tokens < need {
                let wait = Duration::from_secs_f64((need - s.tokens) / per_sec);
                start = start.max(now + wait);
            }
            // Spend (may go negative for oversized requests; later callers wait longer).
            s.tokens -= tokens as f64;
        }
        start.saturating_duration_since(now)
    }

    pub(crate) fn acquire(&self, tokens: u64) {
        let wait = self.reserve(tokens);
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }
}

/// Rough token count for budgeting: about 4 bytes per token, plus one.
pub(crate) fn estimate_tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_spaced() {
        let rl = RateLimiter::new(60, 0); // one per second
        assert_eq!(rl.reserve(1), Duration::ZERO);
        let w = rl.reserve(1);
        assert!(
            w > Duration::from_millis(900) && w <= Duration::from_secs(1),
            "{w:?}"
        );
        let w = rl.reserve(1);
        assert!(w > Duration::from_millis(1900), "{w:?}");
    }

    #[test]
    fn token_budget() {
        let rl = RateLimiter::new(0, 600); // 10 tokens per second
        assert_eq!(rl.reserve(600), Duration::ZERO); // whole minute's budget at once
        let w = rl.reserve(100); // then about 10 s for the next 100
        assert!(
            w > Duration::from_secs(9) && w <= Duration::from_secs(10),
            "{w:?}"
        );
    }

    #[test]
    fn unlimited() {
        let rl = RateLimiter::new(0, 0);
        for _ in 0..100 {
            assert_eq!(rl.reserve(1_000_000), Duration::ZERO);
        }
    }
}
