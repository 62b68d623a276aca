//! Which reply deadlines redis-rs keeps itself, beside the operation deadline.

use std::time::Duration;

use super::RedisOptions;

/// The reply deadline redis-rs should keep itself (a single node's connection, a cluster's
/// whole request): none when the operation deadline (which every command runs under, and
/// which starts first) is not longer, since then redis-rs's would never fire and each
/// command would only pay for a second timer.
pub(super) fn reply_timeout(options: &RedisOptions) -> Option<Duration> {
    (options.response_timeout < options.operation_timeout).then_some(options.response_timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(response_ms: u64, operation_ms: u64) -> RedisOptions {
        RedisOptions {
            connect_timeout: Duration::from_millis(250),
            response_timeout: Duration::from_millis(response_ms),
            operation_timeout: Duration::from_millis(operation_ms),
            circuit_threshold: 5,
            coalesce_reads: true,
            max_reads_in_flight: 2,
            circuit_cool_down: Duration::from_secs(1),
            lease_time: Duration::from_secs(5),
            username: None,
            password: None,
            #[cfg(feature = "tls")]
            tls_root_cert: None,
            #[cfg(feature = "tls")]
            tls_client_cert: None,
        }
    }

    #[test]
    fn redis_rs_keeps_no_reply_deadline_the_operation_deadline_beats() {
        // The defaults: 500 ms replies, 250 ms operations.
        assert_eq!(reply_timeout(&options(500, 250)), None);
        assert_eq!(reply_timeout(&options(250, 250)), None);
    }

    #[test]
    fn a_shorter_reply_deadline_is_kept() {
        assert_eq!(
            reply_timeout(&options(100, 2_000)),
            Some(Duration::from_millis(100))
        );
    }
}
