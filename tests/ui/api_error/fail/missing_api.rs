use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 40401, message = "user not found")]
    UserNotFound,
    Timeout,
}

fn main() {}
