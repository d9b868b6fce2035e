use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 40401, message = "user {1} not found")]
    UserNotFound(u64),
}

fn main() {}
