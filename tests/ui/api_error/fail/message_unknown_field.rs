use mambo::ApiError;

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 40901, message = "name `{nmae}` is taken")]
    NameTaken { name: String, owner: u64 },
}

fn main() {}
