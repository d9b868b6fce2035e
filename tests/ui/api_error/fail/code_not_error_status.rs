use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 20001, message = "all good?")]
    NotAnError,
}

fn main() {}
