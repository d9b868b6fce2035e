use mambo::prelude::*;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 40401, message = "user {0} not found")]
    UserNotFound(u64),
    #[api(code = 409, message = "`{name}` is taken")]
    Taken { name: String },
    #[api(code = 50301, message = "database unavailable", status = 503)]
    Database(#[source] std::io::Error),
    #[api(code = 504, message = "timed out")]
    Timeout,
}

#[derive(Debug, ApiError)]
#[api(code = 40001, message = "bad input in `{0}`")]
struct BadInput(&'static str);

fn handler(id: u64) -> Result<Json<u64>, AppError> {
    if id == 0 {
        return Err(AppError::UserNotFound(id));
    }
    Ok(Json(id))
}

fn main() {
    let _ = handler(0).into_response();
    let _ = BadInput("name").status();
    let _: &dyn std::error::Error = &AppError::Timeout;
}
