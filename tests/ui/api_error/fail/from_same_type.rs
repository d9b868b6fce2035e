// Two `From<std::io::Error>`: one error on the second `#[from]`, a note on
// the first, and nothing else: `?` still converts through the first.
use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 50320, message = "reading failed")]
    Read(#[from] std::io::Error),
    #[api(code = 50321, message = "writing failed")]
    Write(#[from] std::io::Error),
}

fn read() -> Result<(), AppError> {
    Err(std::io::Error::other("disk gone"))?
}

fn main() {
    let _ = read();
}
