use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 40001, message = "expected { or [")]
    BadJson,
}

fn main() {}
