use mambo::ApiError;

#[derive(Debug, ApiError)]
#[api(code = "40401", message = "user not found")]
struct UserNotFound;

fn main() {}
