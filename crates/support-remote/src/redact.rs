//! Credentials out of a service URL before it is logged, put in an error
//! message or written to an output record.

/// Parameter names containing one of these (case-insensitively) carry secrets:
/// `token`, `access_token`, `api_key`, `apikey`, `password`, `client_secret`,
/// `signature`, `sig`, `X-Amz-Credential`, `auth`, `session_id`, `jwt`, ...
const SECRET_PARAMETERS: [&str; 9] = [
    "token",
    "key",
    "secret",
    "pass",
    "pwd",
    "sig",
    "auth",
    "credential",
    "session",
];
const SECRET_PARAMETERS_EXACT: [&str; 2] = ["jwt", "code"];

const HIDDEN: &str = "***";

/// `url` with its user info's password (or the whole user info when it has
/// no password, as it is then usually a token) and the values of query and
/// fragment parameters that look like secrets replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:{HIDDEN}@{host}"),
            None => format!("{HIDDEN}@{host}"),
        },
        None => authority.to_string(),
    };
    let (path, parameters) = tail.split_at(tail.find(['?', '#']).unwrap_or(tail.len()));
    let mut out = format!("{scheme}{authority}{path}");
    // Each piece is `name=value` followed by its separator.
    for piece in parameters.split_inclusive(['?', '&', ';', '#']) {
        let (pair, separator) = match piece.char_indices().last() {
            Some((i, c)) if "?&;#".contains(c) => piece.split_at(i),
            _ => (piece, ""),
        };
        match pair.split_once('=') {
            Some((name, _value)) if is_secret(name) => {
                out.push_str(&format!("{name}={HIDDEN}{separator}"))
            }
            _ => out.push_str(piece),
        }
    }
    out
}

fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_PARAMETERS.iter().any(|s| name.contains(s)) || SECRET_PARAMETERS_EXACT.contains(&&*name)
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_and_secret_parameters_are_hidden() {
        let cases = [
            (
                "http://bot:hunter2@ml.internal:8080/classify",
                "http://bot:***@ml.internal:8080/classify",
            ),
            (
                "https://ghp_abc123@ml.internal/classify",
                "https://***@ml.internal/classify",
            ),
            (
                "https://ml.internal/classify?model=v2&token=s3cret&api_key=k3y#access_token=t0k",
                "https://ml.internal/classify?model=v2&token=***&api_key=***#access_token=***",
            ),
            (
                "https://ml.internal/c?X-Amz-Signature=abc;Password=p&sig=s&jwt=j&lang=es",
                "https://ml.internal/c?X-Amz-Signature=***;Password=***&sig=***&jwt=***&lang=es",
            ),
            (
                "http://127.0.0.1:9/classify?lang=es&verbose",
                "http://127.0.0.1:9/classify?lang=es&verbose",
            ),
            // Not a URL at all: nothing to parse, nothing lost.
            ("ml.internal:8080", "ml.internal:8080"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url(url), shown);
        }
    }
}
