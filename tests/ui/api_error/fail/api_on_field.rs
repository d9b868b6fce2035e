use mambo::ApiError;

#[derive(Debug, ApiError)]
#[api(code = 40001, message = "bad input")]
struct BadInput {
    #[api(code = 40002, message = "bad field")]
    field: String,
}

fn main() {}
