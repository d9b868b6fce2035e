use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 50001, message = "both failed")]
    Both(#[source] std::io::Error, #[source] std::fmt::Error),
}

fn main() {}
