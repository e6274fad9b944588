//! `planpro-privacy openapi`: prints the OpenAPI document.

/// Print the OpenAPI document.
///
/// Prints the OpenAPI document the service serves at /openapi.json (the same as
/// openapi/openapi.json in the repository). Reads no settings and touches no database.
#[derive(Debug, clap::Args)]
pub struct OpenapiArgs {}

impl super::Run for OpenapiArgs {
    fn run(self) -> super::Outcome {
        print!("{}", crate::openapi::to_json());
        Ok(())
    }
}
