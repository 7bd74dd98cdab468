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
    // What the user reads says what happened in words; the SDK's structure
    // (`DispatchFailure(DispatchFailure { source: ConnectorError { … }`)
    // goes to the -v log only.
    tracing::debug!(operation, resource, "{}", DisplayErrorContext(err));
    let service = operation.split(':').next().unwrap_or("AWS").to_uppercase();
    let cause = || root_cause(err);
    let (code, message) = match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = err.code().map(str::to_string).unwrap_or_else(|| format!("HTTP{status}"));
            let message = err.message().map(str::to_string).unwrap_or_else(|| format!("HTTP status {status}"));
            (code, message)
        }
        SdkError::TimeoutError(_) => ("Timeout".to_string(), "the request timed out (see --timeout)".to_string()),
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            ("Timeout".to_string(), format!("the {service} endpoint did not answer in time ({})", cause()))
        }
        SdkError::DispatchFailure(d) if d.is_io() => {
            ("EndpointUnreachable".to_string(), format!("could not connect to the {service} endpoint ({})", cause()))
        }
        SdkError::DispatchFailure(_) => (
            "DispatchFailure".to_string(),
            format!("the request to the {service} endpoint could not be sent ({})", cause()),
        ),
        SdkError::ResponseError(_) => {
            ("InvalidResponse".to_string(), format!("the {service} endpoint's answer could not be read ({})", cause()))
        }
        SdkError::ConstructionFailure(_) => {
            ("RequestConstructionFailed".to_string(), format!("the request could not be built ({})", cause()))
        }
        _ => ("Unknown".to_string(), cause()),
    };
    tracing::warn!(operation, resource, code = %code, "{}", crate::render::text::visible(&message));
    Gap { operation: operation.to_string(), resource: resource.to_string(), code, message }
}

/// A listing the endpoint did not end: its last page named a next page
/// that was not read, because the page token repeated one already asked
/// for (the SDK's paginators stop there without an error) or because the
/// page said it was truncated without saying where to go on. What was
/// listed is then not the whole list: a gap, never a complete answer.
pub fn unfinished(operation: &str, resource: &str) -> Gap {
    let message = "the listing did not end: a page named a next page that cannot be read (a repeated page token, or truncated without one)";
    tracing::warn!(operation, resource, code = "IncompleteListing", "{message}");
    Gap {
        operation: operation.to_string(),
        resource: resource.to_string(),
        code: "IncompleteListing".to_string(),
        message: message.to_string(),
    }
}

/// Whether a page names a next one (a non-empty token).
pub fn names_next(token: Option<&str>) -> bool {
    token.is_some_and(|t| !t.is_empty())
}

/// The innermost cause of an error, in words ("Connection refused (os error
/// 111)"), without the layers of SDK types around it.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

/// An error and its sources on one line ("a: b: c"), for messages that
/// want every layer (credential chains, organization reads).
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ").replace('\n', " ")
}
