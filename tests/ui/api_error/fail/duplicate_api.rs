use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 40401, message = "user not found")]
    #[api(status = 410)]
    UserGone,
}

fn main() {}
