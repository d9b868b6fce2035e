use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[from]
    #[api(code = 50420, message = "timed out")]
    Timeout,
}

fn main() {}
