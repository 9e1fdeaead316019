//! Product images: the product's cover (`id_default_image`) as a file, from
//! `/api/images/products/{id_product}/{id_image}`. The image API answers with the file itself,
//! not JSON, so it is read raw (same transport: key, budget, retries, call record).

use kade_transport::{Request, TransportError};

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
        let resp = match self.transport.send(&Request::get(path.clone())).await {
            Ok(resp) => resp,
            Err(TransportError::Status { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let content_type = resp
            .headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let body = resp.body;
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
