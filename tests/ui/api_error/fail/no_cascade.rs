// A mistake in the attribute is the only error: the type still implements
// `ApiError`, `Error` and `IntoResponse`, so its uses compile.
use mambo::prelude::*;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 40401, message = "user {0} not found", satus = 404)]
    UserNotFound(u64),
}

fn find(id: u64) -> Result<&'static str, AppError> {
    Err(AppError::UserNotFound(id))
}

fn handler() -> Result<&'static str, Box<dyn std::error::Error>> {
    Ok(find(1)?)
}

fn main() {
    let _ = find(1).into_response();
    let _ = handler();
    let _ = AppError::UserNotFound(1).code();
}
