//! The webservice's image API: `/api/images/products/{id_product}/{id_image}` answers with the
//! image file itself (not a record), behind the same key checks and the key's permission on
//! `images`. Only product images exist in the simulator.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::errors::{PsError, code};
use super::server::{PS_VERSION, Sim, authorize, lock};

/// The resource name the key needs a permission on.
pub const IMAGES: &str = "images";

/// `GET /api/images/products/{id_product}/{id_image}`: the image file, after the same key checks
/// as any resource and the key's permission on `images`.
pub(super) fn image_file(
    sim: &Sim,
    key: Option<&str>,
    method: &str,
    rest: &[&str],
) -> Result<Response, (PsError, bool)> {
    authorize(sim, key, None, method).map_err(|e| (e, false))?;
    let allowed = lock(&sim.access).permissions.get(IMAGES).is_some_and(|m| m.contains("GET"));
    if !allowed {
        let msg = "Resource of type \"images\" is not allowed with this authentication key";
        return Err((PsError::new(401, code::RESOURCE_NOT_ALLOWED, msg), false));
    }
    if method != "GET" && method != "HEAD" {
        return Err((
            PsError::new(405, code::METHOD_INVALID, format!("Method {method} is not valid for images")),
            true,
        ));
    }
    let (Some(&"products"), Some(product), Some(image)) = (rest.first(), rest.get(1), rest.get(2)) else {
        return Err((
            PsError::bad(code::INVALID_ID, "this image type or path is not supported by the simulator"),
            true,
        ));
    };
    let (Ok(product), Ok(image)) = (product.parse::<u64>(), image.parse::<u64>()) else {
        return Err((PsError::bad(code::INVALID_ID, "Invalid ID"), true));
    };
    let file = lock(&sim.world).images.get(&image).filter(|(p, _)| *p == product).map(|(_, f)| f.clone());
    let file = file.ok_or_else(|| (PsError::not_exists(IMAGES, image), true))?;
    let mut resp = (StatusCode::OK, file).into_response();
    resp.headers_mut().insert("content-type", HeaderValue::from_static("image/jpeg"));
    resp.headers_mut().insert("psws-version", HeaderValue::from_static(PS_VERSION));
    Ok(resp)
}
