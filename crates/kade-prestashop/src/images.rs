//! Product images: the product's cover (`id_default_image`) as a file, from
//! `/api/images/products/{id_product}/{id_image}`. The image API answers with the file itself,
//! not JSON, so it has its own request path (same key, same call record).

use reqwest::Method;

use crate::client::PrestaClient;
use crate::error::PrestaError;

/// Largest image Kade copies (Picqer takes the file base64-encoded in a JSON body).
const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;

/// A product's cover image file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductImage {
    pub id_image: u64,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl PrestaClient {
    /// The cover image of product `id_product`; `None` when it has none.
    pub async fn product_image(&self, id_product: u64) -> Result<Option<ProductImage>, PrestaError> {
        let q = [("display", "[id,id_default_image]".to_owned()), ("filter[id]", format!("[{id_product}]"))];
        let rows = self.list("products", &q).await?;
        let id_image = rows.first().map(|r| crate::types::field(r, "id_default_image")).unwrap_or_default();
        let Ok(id_image) = id_image.trim().parse::<u64>() else { return Ok(None) };
        if id_image == 0 {
            return Ok(None);
        }
        let path = format!("images/products/{id_product}/{id_image}");
        let method = Method::GET;
        let transport = |source| PrestaError::Transport {
            method: method.to_string(),
            path: path.clone(),
            maybe_applied: false,
            source,
        };
        let started = std::time::Instant::now();
        let sent = self.http.get(format!("{}/{path}", self.api)).basic_auth(&self.key, Some("")).send().await;
        let resp = match sent {
            Ok(resp) => resp,
            Err(e) => {
                kade_calls::note("prestashop", "GET", &path, None, started.elapsed());
                return Err(transport(e));
            }
        };
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let body = resp.bytes().await;
        kade_calls::note("prestashop", "GET", &path, Some(status), started.elapsed());
        let body = body.map_err(transport)?;
        if status == 404 {
            return Ok(None);
        }
        if !(200..300).contains(&status) {
            let text = String::from_utf8_lossy(&body[..body.len().min(2000)]).into_owned();
            return Err(crate::client::error_from(&method, &path, status, &text));
        }
        if body.len() > MAX_IMAGE_BYTES {
            return Err(PrestaError::Decode {
                method: "GET".into(),
                path,
                message: format!("the image has {} bytes, more than the {MAX_IMAGE_BYTES} Kade copies", body.len()),
            });
        }
        Ok(Some(ProductImage { id_image, content_type, bytes: body.to_vec() }))
    }
}
