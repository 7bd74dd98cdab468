//! Turning SDK errors into [`Gap`]s: the AWS error code when AWS answered, or
//! our own code for transport failures, so that the report can say *why* a
//! fact is unknown.

use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::inventory::Gap;

/// A gap for `operation` on `resource` from any SDK client's error.
pub fn gap<E>(operation: &str, resource: &str, err: &SdkError<E, HttpResponse>) -> Gap
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let context = || DisplayErrorContext(err).to_string();
    let (code, message) = match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = err.code().map(str::to_string).unwrap_or_else(|| format!("HTTP{status}"));
            let message = err.message().map(str::to_string).unwrap_or_else(|| format!("HTTP status {status}"));
            (code, message)
        }
        SdkError::TimeoutError(_) => ("Timeout".to_string(), "the request timed out (see --timeout)".to_string()),
        SdkError::DispatchFailure(d) if d.is_timeout() => ("Timeout".to_string(), context()),
        SdkError::DispatchFailure(d) if d.is_io() => ("EndpointUnreachable".to_string(), context()),
        SdkError::DispatchFailure(_) => ("DispatchFailure".to_string(), context()),
        SdkError::ResponseError(_) => ("InvalidResponse".to_string(), context()),
        SdkError::ConstructionFailure(_) => ("RequestConstructionFailed".to_string(), context()),
        _ => ("Unknown".to_string(), context()),
    };
    tracing::warn!(operation, resource, code = %code, "{message}");
    Gap { operation: operation.to_string(), resource: resource.to_string(), code, message }
}
