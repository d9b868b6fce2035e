use mambo::ApiError;

#[derive(Debug, ApiError)]
#[api(code = 40401, message = "user not found", code = 40402)]
struct UserNotFound;

fn main() {}
