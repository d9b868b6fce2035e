use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 40401, mesage = "user not found")]
    UserNotFound,
}

fn main() {}
