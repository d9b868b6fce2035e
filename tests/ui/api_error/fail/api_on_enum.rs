use mambo::ApiError;

#[derive(Debug, ApiError)]
#[api(code = 50000, message = "internal error")]
enum AppError {
    #[api(code = 40401, message = "user not found")]
    UserNotFound,
}

fn main() {}
