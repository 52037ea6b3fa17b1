//! The route table: every declared (method, path, access), and how it patches a document.

use std::collections::BTreeMap;

use http::Method;
use utoipa::Modify;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::{OpenApi, Required};

use super::Access;

/// One declared route: its method, its axum path template and who may call it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteEntry {
    method: Method,
    path: String,
    access: Access,
}

impl RouteEntry {
    /// The HTTP method.
    #[must_use]
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path as given to axum (`/orders/{id}`, `/files/{*rest}`).
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The path as an OpenAPI path template: a wildcard `{*rest}` becomes `{rest}`.
    #[must_use]
    pub fn openapi_path(&self) -> String {
        self.path.replace("{*", "{")
    }

    /// Who may call the route.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// The path parameters' names, in order.
    fn parameters(&self) -> impl Iterator<Item = &str> {
        self.path.split('/').filter_map(|segment| {
            let name = segment.strip_prefix('{')?.strip_suffix('}')?;
            Some(name.strip_prefix('*').unwrap_or(name))
        })
    }
}

/// Every route declared through [`SecuredRoutes`](super::SecuredRoutes), keyed by path and
/// method. As a [`Modify`] (or with [`apply`](Self::apply)) it writes each route's `security`
/// into a document, adding the operations the document lacks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteTable {
    entries: BTreeMap<(String, String), RouteEntry>,
}

impl RouteTable {
    /// Every route, ordered by path then method.
    pub fn routes(&self) -> impl Iterator<Item = &RouteEntry> {
        self.entries.values()
    }

    /// The route declared for `method` and `path` (axum's template), if any.
    #[must_use]
    pub fn get(&self, method: &Method, path: &str) -> Option<&RouteEntry> {
        self.entries
            .get(&(path.to_owned(), method.as_str().to_owned()))
    }

    /// How many routes (method and path pairs) are declared.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no route is declared.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(super) fn contains(&self, method: &Method, path: &str) -> bool {
        self.get(method, path).is_some()
    }

    pub(super) fn insert(&mut self, method: Method, path: &str, access: Access) {
        let key = (path.to_owned(), method.as_str().to_owned());
        self.entries.insert(
            key,
            RouteEntry {
                method,
                path: path.to_owned(),
                access,
            },
        );
    }

    pub(super) fn extend(&mut self, other: Self) {
        self.entries.extend(other.entries);
    }

    /// Writes every route into `doc`: an operation the document lacks is added (with its path
    /// parameters as strings); each route's operation gets the `security` its [`Access`]
    /// declares, replacing what was there. A public route's operation gets no `security`,
    /// or `[]` when the document sets a global requirement, so that it does not apply.
    pub fn apply(&self, doc: &mut OpenApi) {
        let global = doc.security.as_ref().is_some_and(|s| !s.is_empty());
        for entry in self.entries.values() {
            let item = doc.paths.paths.entry(entry.openapi_path()).or_default();
            let Some(slot) = operation_slot(item, &entry.method) else {
                tracing::warn!(
                    target: "auth::openapi",
                    method = %entry.method,
                    path = %entry.path,
                    "method has no OpenAPI operation; route left out of the document"
                );
                continue;
            };
            let operation = slot.get_or_insert_with(|| new_operation(entry));
            operation.security = match entry.access.security() {
                None if global => Some(Vec::new()),
                security => security,
            };
        }
    }
}

impl Modify for RouteTable {
    fn modify(&self, openapi: &mut OpenApi) {
        self.apply(openapi);
    }
}

fn new_operation(entry: &RouteEntry) -> Operation {
    let mut operation = Operation::new();
    let parameters: Vec<Parameter> = entry
        .parameters()
        .map(|name| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(Object::with_type(Type::String)))
                .build()
        })
        .collect();
    if !parameters.is_empty() {
        operation.parameters = Some(parameters);
    }
    operation
}

/// The operation field of `item` for `method` (`None` for methods OpenAPI has no field for).
fn operation_slot<'a>(
    item: &'a mut PathItem,
    method: &Method,
) -> Option<&'a mut Option<Operation>> {
    Some(match *method {
        Method::GET => &mut item.get,
        Method::PUT => &mut item.put,
        Method::POST => &mut item.post,
        Method::DELETE => &mut item.delete,
        Method::OPTIONS => &mut item.options,
        Method::HEAD => &mut item.head,
        Method::PATCH => &mut item.patch,
        Method::TRACE => &mut item.trace,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openapi::Scheme;
    use auth_core::scope::Requirement;
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{Info, Paths};

    fn doc() -> OpenApi {
        OpenApi::new(Info::new("t", "1"), Paths::new())
    }

    fn table() -> RouteTable {
        let mut t = RouteTable::default();
        t.insert(Method::GET, "/health", Access::public());
        t.insert(
            Method::POST,
            "/orders/{id}/refund",
            Access::require(Requirement::permission("orders:refund"), [Scheme::BEARER]),
        );
        t.insert(
            Method::GET,
            "/files/{*rest}",
            Access::authenticated([Scheme::BEARER]),
        );
        t
    }

    #[test]
    fn missing_operations_are_added_with_their_security_and_path_parameters() {
        let mut d = doc();
        table().apply(&mut d);
        let json = serde_json::to_value(&d).unwrap();
        let refund = &json["paths"]["/orders/{id}/refund"]["post"];
        assert_eq!(
            refund["security"],
            serde_json::json!([{"bearer": ["orders:refund"]}])
        );
        assert_eq!(refund["parameters"][0]["name"], "id");
        assert_eq!(refund["parameters"][0]["in"], "path");
        assert!(json["paths"]["/health"]["get"].get("security").is_none());
        let files = &json["paths"]["/files/{rest}"]["get"];
        assert_eq!(files["parameters"][0]["name"], "rest");
        assert_eq!(files["security"], serde_json::json!([{"bearer": []}]));
    }

    #[test]
    fn existing_operations_keep_their_fields_and_get_the_declared_security() {
        let mut d = doc();
        let mut op = Operation::new();
        op.summary = Some("refund an order".to_owned());
        op.security = Some(vec![SecurityRequirement::new("stale", ["x"])]);
        d.paths.add_path_operation(
            "/orders/{id}/refund",
            vec![utoipa::openapi::HttpMethod::Post],
            op,
        );
        table().apply(&mut d);
        let json = serde_json::to_value(&d).unwrap();
        let refund = &json["paths"]["/orders/{id}/refund"]["post"];
        assert_eq!(refund["summary"], "refund an order");
        assert_eq!(
            refund["security"],
            serde_json::json!([{"bearer": ["orders:refund"]}])
        );
    }

    #[test]
    fn public_routes_opt_out_of_a_global_requirement() {
        let mut d = doc();
        d.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        table().apply(&mut d);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(
            json["paths"]["/health"]["get"]["security"],
            serde_json::json!([])
        );
    }

    #[test]
    fn lookups_use_the_axum_template() {
        let t = table();
        assert_eq!(t.len(), 3);
        let e = t.get(&Method::GET, "/files/{*rest}").unwrap();
        assert_eq!(e.openapi_path(), "/files/{rest}");
        assert!(t.get(&Method::POST, "/health").is_none());
    }
}
