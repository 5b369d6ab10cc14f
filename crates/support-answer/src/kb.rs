//! Knowledge-base articles: read from JSON Lines (one article per line) or a
//! folder of Markdown files (an optional YAML front matter, a `# Title`, the
//! body). Errors name the file, the line and the field.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One article, as the index stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Article {
    pub id: String,
    pub title: String,
    pub body: String,
    /// Ways customers ask what the article answers; each is indexed too.
    #[serde(default)]
    pub questions: Vec<String>,
    /// `es` or `en`: the language the article is written in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Reply texts by language (`es`, `en`), with placeholders such as
    /// `{customer_name}` and `{ticket_id}`.
    #[serde(default)]
    pub reply: BTreeMap<String, String>,
    /// False when the reply must not go out without an agent: it promises a
    /// person's follow-up (a hacked account, "a person will answer you").
    /// The reply is still offered, as a draft.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub auto_reply: bool,
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

#[derive(Debug, thiserror::Error)]
pub enum KbError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "{path}: no articles; give JSON Lines (one article per line) or a folder of .md files"
    )]
    Empty { path: PathBuf },
}

/// The articles of `path`: a folder of Markdown files, or a JSON Lines file.
pub fn read(path: &Path) -> Result<Vec<Article>, KbError> {
    let articles = if path.is_dir() {
        read_markdown_dir(path)?
    } else {
        let text = read_text(path)?;
        parse_jsonl(path, &text)?
    };
    if articles.is_empty() {
        return Err(KbError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(articles)
}

fn read_text(path: &Path) -> Result<String, KbError> {
    std::fs::read_to_string(path).map_err(|source| KbError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Articles from JSON Lines; blank lines are skipped, ids must be unique.
pub fn parse_jsonl(path: &Path, text: &str) -> Result<Vec<Article>, KbError> {
    let mut articles = Vec::new();
    let mut ids = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let invalid = |message: String| KbError::Invalid {
            path: path.to_path_buf(),
            line: i + 1,
            message,
        };
        let mut json = serde_json::Deserializer::from_str(line);
        let article: Article = serde_path_to_error::deserialize(&mut json).map_err(|e| {
            let field = e.path().to_string();
            invalid(format!("field `{field}`: {}", e.inner()))
        })?;
        check(&article).map_err(invalid)?;
        if !ids.insert(article.id.clone()) {
            return Err(invalid(format!("duplicate article id `{}`", article.id)));
        }
        articles.push(article);
    }
    Ok(articles)
}

fn check(article: &Article) -> Result<(), String> {
    if article.id.trim().is_empty() {
        return Err("field `id` is empty".into());
    }
    if article.title.trim().is_empty() && article.body.trim().is_empty() {
        return Err(format!(
            "article `{}` has neither title nor body",
            article.id
        ));
    }
    Ok(())
}

/// The front matter a Markdown article may start with, between `---` lines.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: Option<String>,
    title: Option<String>,
    #[serde(default)]
    questions: Vec<String>,
    language: Option<String>,
    url: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    reply: BTreeMap<String, String>,
    #[serde(default = "yes")]
    auto_reply: bool,
}

/// Every `.md` file of `dir`, in name order (so the index is the same
/// whatever order the file system lists them in).
fn read_markdown_dir(dir: &Path) -> Result<Vec<Article>, KbError> {
    let io = |source| KbError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "md"));
    paths.sort();
    let mut ids = HashSet::new();
    let mut articles = Vec::new();
    for path in paths {
        let article = parse_markdown(&path, &read_text(&path)?)?;
        if !ids.insert(article.id.clone()) {
            return Err(KbError::Invalid {
                path,
                line: 1,
                message: format!("duplicate article id `{}`", article.id),
            });
        }
        articles.push(article);
    }
    Ok(articles)
}

/// One Markdown article: the id defaults to the file name, the title to the
/// first `# ` heading.
pub fn parse_markdown(path: &Path, text: &str) -> Result<Article, KbError> {
    let invalid = |line: usize, message: String| KbError::Invalid {
        path: path.to_path_buf(),
        line,
        message,
    };
    let (front, rest, body_line) = split_front_matter(text);
    // No front matter reads as an empty one, so the defaults live in one place.
    let front: FrontMatter = serde_yaml_ng::from_str(front.unwrap_or("{}")).map_err(|e| {
        let line = e.location().map_or(2, |l| l.line() + 1);
        invalid(line, format!("front matter: {e}"))
    })?;
    let mut title = front.title;
    let mut body = Vec::new();
    for line in rest.lines() {
        match line.strip_prefix("# ") {
            Some(heading) if title.is_none() => title = Some(heading.trim().to_string()),
            _ => body.push(line),
        }
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    let article = Article {
        id: front.id.or(stem).unwrap_or_default(),
        title: title.unwrap_or_default(),
        body: body.join("\n").trim().to_string(),
        questions: front.questions,
        language: front.language,
        url: front.url,
        tags: front.tags,
        reply: front.reply,
        auto_reply: front.auto_reply,
    };
    check(&article).map_err(|m| invalid(body_line, m))?;
    Ok(article)
}

/// The YAML between a leading `---` line and the next one, the rest, and
/// the line number where the rest starts.
fn split_front_matter(text: &str) -> (Option<&str>, &str, usize) {
    let Some(after) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (None, text, 1);
    };
    let mut offset = 0;
    for (i, line) in after.split_inclusive('\n').enumerate() {
        if line.trim_end() == "---" {
            return (Some(&after[..offset]), &after[offset + line.len()..], i + 3);
        }
        offset += line.len();
    }
    (None, text, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_names_its_number_and_field() {
        let text = "{\"id\":\"a\",\"title\":\"T\",\"body\":\"B\"}\n\n{\"id\":\"b\",\"title\":3,\"body\":\"B\"}\n";
        let err = parse_jsonl(Path::new("kb.jsonl"), text)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("kb.jsonl:3: field `title`"), "{err}");
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let line = "{\"id\":\"a\",\"title\":\"T\",\"body\":\"B\"}\n";
        let err = parse_jsonl(Path::new("kb.jsonl"), &line.repeat(2)).unwrap_err();
        assert!(
            err.to_string().contains("duplicate article id `a`"),
            "{err}"
        );
    }

    #[test]
    fn markdown_takes_front_matter_title_and_body() {
        let text = "---\nid: kb-refunds\nquestions: [\"where is my refund\"]\nreply:\n  en: Hi {customer_name}\nauto_reply: false\n---\n# Refunds\n\nThey take 5 days.\n";
        let article = parse_markdown(Path::new("refunds.md"), text).unwrap();
        assert_eq!(article.id, "kb-refunds");
        assert_eq!(article.title, "Refunds");
        assert_eq!(article.body, "They take 5 days.");
        assert_eq!(article.questions, ["where is my refund"]);
        assert_eq!(article.reply["en"], "Hi {customer_name}");
        assert!(!article.auto_reply);
    }

    #[test]
    fn markdown_without_front_matter_is_named_after_its_file() {
        let article =
            parse_markdown(Path::new("dir/kb-2fa.md"), "# Two-factor\nUse an app.").unwrap();
        assert_eq!(
            (
                article.id.as_str(),
                article.title.as_str(),
                article.auto_reply
            ),
            ("kb-2fa", "Two-factor", true)
        );
    }

    #[test]
    fn bad_front_matter_names_its_line() {
        let err = parse_markdown(Path::new("x.md"), "---\nid: a\ntags: {\n---\n# T\n").unwrap_err();
        assert!(err.to_string().starts_with("x.md:"), "{err}");
    }
}
