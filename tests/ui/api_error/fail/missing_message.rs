use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 40401)]
    UserNotFound,
}

fn main() {}
