use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 50400, message = "timed out after {secs}s")]
    Timeout,
}

fn main() {}
