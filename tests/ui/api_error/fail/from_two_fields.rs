use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 50320, message = "reading {1} failed")]
    Read(#[from] std::io::Error, String),
}

fn main() {}
