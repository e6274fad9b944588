//! `HEAD` on every `GET` route (RFC 9110 section 9.3.2), in one place: the request is routed and
//! answered as a `GET`, and the HTTP layer, which saw the `HEAD`, sends the head without the body
//! (its `Content-Length` stays the one a `GET` gets).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

/// Routes a `HEAD` request as the `GET` of the same path.
pub async fn as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}
