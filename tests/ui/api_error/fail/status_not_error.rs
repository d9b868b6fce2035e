use mambo::ApiError;

#[derive(Debug, ApiError)]
#[api(code = 1001, message = "accepted", status = 202)]
struct Accepted;

fn main() {}
