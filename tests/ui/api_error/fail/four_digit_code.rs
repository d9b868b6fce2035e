use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 4041, message = "user not found")]
    UserNotFound,
}

fn main() {}
