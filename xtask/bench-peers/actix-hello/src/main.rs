//! `actix-hello [--port N] [--threads N]`: the actix-web 4 peer (one worker per
//! thread, actix's own thread-per-core layout; `--mode` is accepted and ignored).

use actix_web::http::Method;
use actix_web::{App, HttpResponse, HttpServer, web};
use peer_common::{APPLICATION_JSON, JSON_MESSAGE, PING_BODY, PLAINTEXT_BODY, TEXT_PLAIN};

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

fn app() -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let mut app = App::new()
        .route(
            "/plaintext",
            web::get()
                .to(|| async { HttpResponse::Ok().content_type(TEXT_PLAIN).body(PLAINTEXT_BODY) }),
        )
        .route("/json", web::get().to(|| async { web::Json(Message { message: JSON_MESSAGE }) }))
        .route(
            "/ping",
            web::get()
                .to(|| async { HttpResponse::Ok().content_type(APPLICATION_JSON).body(PING_BODY) }),
        )
        .route(
            "/user/{id}/post/{slug}",
            web::get().to(|path: web::Path<(u64, String)>| async move {
                let (id, slug) = path.into_inner();
                HttpResponse::Ok().content_type(TEXT_PLAIN).body(format!("user {id} post {slug}"))
            }),
        );
    for (pattern, methods) in peer_common::github_routes_by_path() {
        let mut resource = web::resource(peer_common::to_braces(pattern));
        for method in methods {
            let method = Method::from_bytes(method.as_bytes()).expect("valid method");
            resource = resource.route(web::route().method(method).to(move || async move {
                HttpResponse::Ok().content_type(TEXT_PLAIN).body(pattern)
            }));
        }
        app = app.service(resource);
    }
    app
}

fn main() -> std::io::Result<()> {
    let args = peer_common::Args::from_env();
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(app)
            .workers(args.threads)
            .backlog(4096)
            .max_connections(100_000)
            .bind_auto_h2c(("127.0.0.1", args.port))?
            .run()
            .await
    })
}
