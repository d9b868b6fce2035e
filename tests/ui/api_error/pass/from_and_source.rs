use mambo::prelude::*;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 50320, message = "storage unavailable")]
    Io(#[from] std::io::Error),
    #[api(code = 40020, message = "`{text}` is not a number")]
    NotANumber {
        text: String,
        #[source]
        cause: std::num::ParseIntError,
    },
    #[api(code = 50020, message = "the config is broken")]
    Config {
        #[from]
        #[source]
        cause: std::fmt::Error,
    },
}

#[derive(Debug, ApiError)]
#[api(code = 50220, message = "the upstream failed")]
struct Upstream(#[from] Box<dyn std::error::Error + Send + Sync>);

fn read(text: &str) -> Result<u64, AppError> {
    std::fs::metadata("/")?;
    text.parse().map_err(|cause| AppError::NotANumber { text: text.to_owned(), cause })
}

fn main() {
    let _ = read("7").map(|n| n.to_string()).into_response();
    let _ = AppError::from(std::fmt::Error);
    let _ = Upstream::from(Box::<dyn std::error::Error + Send + Sync>::from("x"));
}
