//! The knowledge base as support-answer reads it: `kb_entries` as JSON Lines
//! in support-answer's article format (`support-answer index --db`), so the
//! store's articles and a file's are checked by the same reader.

use postgres::Client;

use crate::StoreError;

/// Every article of `kb_entries`, one JSON object per line, in id order.
pub fn kb_articles_jsonl(client: &mut Client) -> Result<String, StoreError> {
    crate::migrate::ensure_current(client)?;
    let rows = client.query(
        "SELECT json_strip_nulls(json_build_object(
             'id', id, 'title', title, 'body', body, 'questions', questions,
             'language', language, 'url', url, 'tags', tags, 'reply', reply,
             'auto_reply', auto_reply))::text
         FROM kb_entries ORDER BY id",
        &[],
    )?;
    let mut jsonl = String::new();
    for row in rows {
        jsonl.push_str(row.get::<_, &str>(0));
        jsonl.push('\n');
    }
    Ok(jsonl)
}
