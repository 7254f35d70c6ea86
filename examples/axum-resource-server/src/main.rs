//! `CLOUDDOCS_URL=http://127.0.0.1:8080 cargo run -p axum-resource-server`
//! (listens on `BIND`, default 127.0.0.1:3000)

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clouddocs =
        std::env::var("CLOUDDOCS_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".to_owned());
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let verifier = clouddocs_resource::Verifier::discover(&clouddocs, "clouddocs").await?;
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("listening on http://{bind}, trusting {clouddocs}");
    axum::serve(listener, axum_resource_server::app(verifier, &clouddocs)).await?;
    Ok(())
}
