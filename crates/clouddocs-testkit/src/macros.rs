//! The backend matrix: one macro defines a scenario's test on each named backend.

/// Runs async scenarios once per named backend. Each scenario becomes a module holding one
/// `#[tokio::test]` per backend, named after it (`sqlite`, `postgres`, `postgres_redis`).
///
/// ```ignore
/// // `async fn scenario(app: TestApp)`: the app is started on each backend
/// backends!([sqlite, postgres], scenario_a, scenario_b);
/// // `async fn scenario(backend: Backend)`: the scenario starts its own app(s)
/// backends!(with_backend [sqlite, postgres, postgres_redis], scenario_c);
/// ```
#[macro_export]
macro_rules! backends {
    (with_backend $backends:tt, $($scenario:ident),+ $(,)?) => {
        $( $crate::backends!(@given $backends $scenario); )+
    };
    ($backends:tt, $($scenario:ident),+ $(,)?) => {
        $( $crate::backends!(@spawned $backends $scenario); )+
    };
    (@spawned [$($backend:ident),+] $scenario:ident) => {
        mod $scenario {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $backend() {
                    if let Some(app) = $crate::TestApp::spawn($crate::backends!(@backend $backend)).await {
                        super::$scenario(app).await;
                    }
                }
            )+
        }
    };
    (@given [$($backend:ident),+] $scenario:ident) => {
        mod $scenario {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $backend() {
                    super::$scenario($crate::backends!(@backend $backend)).await;
                }
            )+
        }
    };
    (@backend sqlite) => { $crate::Backend::Sqlite };
    (@backend postgres) => { $crate::Backend::Postgres };
    (@backend postgres_redis) => { $crate::Backend::PostgresRedis };
}
