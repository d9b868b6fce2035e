use mambo::ApiError;

#[derive(ApiError)]
#[api(code = 40401, message = "user not found")]
struct UserNotFound;

fn main() {}
