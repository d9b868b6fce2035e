use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[source]
    #[api(code = 50001, message = "io failed")]
    Io(std::io::Error),
}

fn main() {}
