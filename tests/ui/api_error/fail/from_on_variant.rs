use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[from]
    #[api(code = 50320, message = "storage failed")]
    Io(std::io::Error),
}

fn main() {}
