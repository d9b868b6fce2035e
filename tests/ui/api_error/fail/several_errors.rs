// Every mistake is reported in one build, each at its own tokens.
use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 200, message = "ok")]
    Ok,
    #[api(code = 40401, message = "user {id} not found")]
    UserNotFound(u64),
    #[api(message = "no code")]
    NoCode,
    #[api(code = 40001, message = "bad", status = 302)]
    Moved,
}

fn main() {}
