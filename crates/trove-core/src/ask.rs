//! Ask: answers grounded in the library. Retrieve the passages nearest the question (the
//! hybrid search, its relevance floor deciding "I don't know"), widen each to its
//! neighbouring chunks, number them, and let a chat model write an answer that cites them
//! as `[n]`. Without a chat model the passages are the answer.

use std::collections::hash_map::{Entry, HashMap};

use crate::error::{Error, Result};
use crate::model::{AskAnswer, AskEvent, AskPassage, AskTurn, SearchHit};
use crate::ports::{ChatMessage, ChatModel, ChatRole};
use crate::store::{content, Store};

/// Passages retrieved for a question.
pub const ASK_PASSAGES: u32 = 6;
/// Chunks of context on each side of a retrieved passage.
pub const ASK_NEIGHBOURS: i64 = 1;
/// Bytes of one passage with its neighbours, at most (six of them fit a small model's
/// context with room for the answer).
pub const ASK_PASSAGE_BYTES: usize = 2_400;
/// Earlier turns sent with a follow-up, and the characters kept of each answer.
pub const ASK_HISTORY_TURNS: usize = 3;
pub const ASK_HISTORY_ANSWER_CHARS: usize = 2_000;
/// A question is cut to this many characters.
pub const ASK_QUESTION_MAX_CHARS: usize = 2_000;

/// The instructions every answer is written under.
pub const SYSTEM_PROMPT: &str = "You answer questions from the user's own documents. \
Use only the numbered passages given with the question. After each statement, cite the \
passages it comes from by their numbers in square brackets, like [1] or [2][3]. If the \
passages do not contain the answer, say that you don't know; do not guess or use outside \
knowledge. Answer in the language of the question, briefly.";

/// A retrieved passage widened to its neighbours, cut to `max` bytes around the hit.
/// `documents` keeps the texts already read (hits often share a document).
fn passage_text(
    c: &rusqlite::Connection,
    documents: &mut HashMap<String, String>,
    chunk: i64,
    max: usize,
) -> Result<String> {
    let Some(n) = content::chunk_neighbourhood(c, chunk, ASK_NEIGHBOURS)? else {
        return Err(Error::NotFound(format!("passage {chunk}")));
    };
    let text = match documents.entry(n.item) {
        Entry::Occupied(e) => e.into_mut(),
        Entry::Vacant(e) => {
            let text = content::document_text(c, e.key())?;
            e.insert(text)
        }
    };
    Ok(window(text, n.start, n.end, n.from, n.to, max).to_owned())
}

fn byte(text: &str, b: i64) -> usize {
    let mut i = usize::try_from(b).unwrap_or(0).min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `text[from..to]`, or when that is longer than `max`, the chunk `start..end` (cut to
/// `max`) with what fits of the context shared on both sides.
fn window(text: &str, start: i64, end: i64, from: i64, to: i64, max: usize) -> &str {
    let (start, end) = (byte(text, start), byte(text, end));
    let (from, to) = (byte(text, from).min(start), byte(text, to).max(end));
    if to - from <= max {
        return text[from..to].trim();
    }
    if end - start >= max {
        return text[start..byte(text, (start + max) as i64)].trim();
    }
    let spare = (max - (end - start)) / 2;
    let a = byte(text, start.saturating_sub(spare).max(from) as i64);
    let b = byte(text, (end + spare).min(to) as i64);
    // Start and end at a word.
    let a = text[a..start]
        .find(char::is_whitespace)
        .map_or(a, |i| a + i);
    let b = text[end..b]
        .rfind(char::is_whitespace)
        .map_or(b, |i| end + i);
    text[a..b].trim()
}

/// The passages as the answer will cite them (one read of the database, each document
/// read once).
pub fn passages(store: &Store, hits: &[SearchHit]) -> Result<Vec<AskPassage>> {
    store.read(|c| {
        let mut documents = HashMap::new();
        hits.iter()
            .enumerate()
            .map(|(i, h)| {
                Ok(AskPassage {
                    n: i as u32 + 1,
                    item_id: h.item_id.clone(),
                    name: h.name.clone(),
                    location: h.location.clone(),
                    chunk_id: h.chunk_id,
                    page: h.page,
                    page_unit: h.page_unit.clone(),
                    text: passage_text(c, &mut documents, h.chunk_id, ASK_PASSAGE_BYTES)?,
                    similarity: h.similarity,
                })
            })
            .collect()
    })
}

fn cut_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The conversation sent to the chat model: instructions, the last turns, then the
/// numbered passages and the question.
pub fn messages(question: &str, history: &[AskTurn], passages: &[AskPassage]) -> Vec<ChatMessage> {
    let mut out = vec![ChatMessage {
        role: ChatRole::System,
        content: SYSTEM_PROMPT.to_owned(),
    }];
    let skip = history.len().saturating_sub(ASK_HISTORY_TURNS);
    for t in &history[skip..] {
        out.push(ChatMessage {
            role: ChatRole::User,
            content: cut_chars(&t.question, ASK_QUESTION_MAX_CHARS).to_owned(),
        });
        out.push(ChatMessage {
            role: ChatRole::Assistant,
            content: cut_chars(&t.answer, ASK_HISTORY_ANSWER_CHARS).to_owned(),
        });
    }
    let mut user = String::from("Passages:\n\n");
    for p in passages {
        let page = match (&p.page_unit, p.page) {
            (Some(unit), Some(n)) => format!(", {unit} {n}"),
            (None, Some(n)) => format!(", page {n}"),
            _ => String::new(),
        };
        user.push_str(&format!("[{}] {}{page}\n{}\n\n", p.n, p.name, p.text));
    }
    user.push_str("Question: ");
    user.push_str(question);
    out.push(ChatMessage {
        role: ChatRole::User,
        content: user,
    });
    out
}

/// The passage numbers an answer cites, once each, in order, among 1..=count — read as
/// the app reads them (`ui/src/lib/ask.ts`): `[1]`, `[1, 3]`, `[1;3]`, `[1][4]`, a short range
/// `[2-4]` (at most 10), and the wordier `[Source 1]` / `[passages 1, 2]`.
pub fn citations(answer: &str, count: usize) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    let mut rest = answer;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find(']') else { break };
        // The innermost bracket: "[[2]]" cites 2.
        let inside = rest[..close].rsplit('[').next().unwrap_or_default();
        for n in group(inside).unwrap_or_default() {
            if (1..=count as u32).contains(&n) && !out.contains(&n) {
                out.push(n);
            }
        }
        rest = &rest[close..];
    }
    out
}

/// The numbers of one bracketed group, or None when it is not a group of numbers.
fn group(inside: &str) -> Option<Vec<u32>> {
    let mut s = inside.trim();
    let lower = s.to_lowercase();
    for word in ["sources", "source", "passages", "passage"] {
        if lower.starts_with(word) {
            s = s[word.len()..].trim_start();
            break;
        }
    }
    let mut out = Vec::new();
    for piece in s.split([',', ';']) {
        let piece = piece.trim();
        let (a, b) = match piece.split_once(['-', '–']) {
            Some((a, b)) => (a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?),
            None => {
                let n = piece.parse::<u32>().ok()?;
                (n, n)
            }
        };
        if a == 0 || b < a || b - a >= 10 {
            continue;
        }
        out.extend(a..=b);
    }
    Some(out)
}

/// Ask the library. `search` finds the hits (the engine's hybrid search: the hits and
/// whether none is a close match); `chat` writes the answer when there is one.
pub fn ask(
    store: &Store,
    question: &str,
    history: &[AskTurn],
    search: impl Fn(&str) -> Result<(Vec<SearchHit>, bool)>,
    chat: Option<&dyn ChatModel>,
    on_event: &mut dyn FnMut(AskEvent),
) -> Result<AskAnswer> {
    let question = cut_chars(question.trim(), ASK_QUESTION_MAX_CHARS).to_owned();
    if question.is_empty() {
        return Err(Error::Invalid("ask a question: it is empty".into()));
    }
    let (mut hits, mut none_close) = search(&question)?;
    // A follow-up ("and in winter?") may only make sense with the question before it.
    if none_close {
        if let Some(last) = history.last() {
            let (h, n) = search(&format!("{} {question}", last.question))?;
            if !n {
                (hits, none_close) = (h, n);
            }
        }
    }
    let relevant = !none_close && !hits.is_empty();
    let passages = passages(store, &hits)?;
    let answering = relevant && chat.is_some();
    on_event(AskEvent::Passages {
        passages: passages.clone(),
        relevant,
        answering,
    });
    let mut out = AskAnswer {
        question: question.clone(),
        passages,
        relevant,
        answer: None,
        cited: Vec::new(),
        endpoint: chat.map(|c| c.endpoint()),
        model: chat.map(|c| c.model()),
        error: None,
    };
    if let (true, Some(chat)) = (answering, chat) {
        let msgs = messages(&question, history, &out.passages);
        let mut on_token = |t: &str| {
            on_event(AskEvent::Token { text: t.to_owned() });
        };
        match chat.answer(&msgs, &mut on_token) {
            Ok(answer) => {
                out.cited = citations(&answer, out.passages.len());
                out.answer = Some(answer);
            }
            Err(e) => out.error = Some(e.to_string()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_are_found_once_each_in_range() {
        assert_eq!(
            citations("Herons wait [1]. They eat fish [2][1].", 3),
            [1, 2]
        );
        assert_eq!(citations("Both [1, 3] and [ 2 ,3 ]", 3), [1, 3, 2]);
        assert_eq!(citations("Out of range [4] [0] [12]", 3), Vec::<u32>::new());
        assert_eq!(
            citations("Not citations [a] [1a] [] [-1] [1.5]", 3),
            Vec::<u32>::new()
        );
        assert_eq!(citations("[[2]] and [3", 3), [2]);
        assert_eq!(citations("[2]", 3), [2]);
        assert_eq!(citations("日本語 [1]。", 1), [1]);
        assert_eq!(citations("", 3), Vec::<u32>::new());
        // The forms the app reads too (ui/src/lib/ask.ts).
        assert_eq!(citations("Ranges [2-4] and [1;3]", 5), [2, 3, 4, 1]);
        assert_eq!(
            citations("En dash [1–2], [Source 3], [passages 4, 5]", 5),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(
            citations("Too wide [1-40], backwards [3-1]", 50),
            Vec::<u32>::new()
        );
    }

    fn passage(n: u32, text: &str) -> AskPassage {
        AskPassage {
            n,
            item_id: format!("f{n}"),
            name: format!("doc{n}.pdf"),
            location: format!("/d/doc{n}.pdf"),
            chunk_id: n as i64,
            page: Some(n + 1),
            page_unit: Some("page".into()),
            text: text.into(),
            similarity: None,
        }
    }

    #[test]
    fn messages_carry_instructions_turns_passages_and_question() {
        let history: Vec<AskTurn> = (0..5)
            .map(|i| AskTurn {
                question: format!("q{i}"),
                answer: format!("a{i} {}", "x".repeat(5000)),
            })
            .collect();
        let m = messages(
            "Where do herons wait?",
            &history,
            &[passage(1, "In the marsh."), passage(2, "At dawn.")],
        );
        assert_eq!(m[0].role, ChatRole::System);
        assert!(m[0].content.contains("[1]"));
        // The last three turns, oldest first, answers cut.
        let turns: Vec<&str> = m[1..7].iter().map(|m| &m.content[..2]).collect();
        assert_eq!(turns, ["q2", "a2", "q3", "a3", "q4", "a4"]);
        assert_eq!(m[2].role, ChatRole::Assistant);
        assert_eq!(m[2].content.chars().count(), ASK_HISTORY_ANSWER_CHARS);
        let last = &m[7];
        assert_eq!((m.len(), last.role), (8, ChatRole::User));
        assert!(
            last.content.contains("[1] doc1.pdf, page 2\nIn the marsh."),
            "{}",
            last.content
        );
        assert!(last.content.contains("[2] doc2.pdf, page 3\nAt dawn."));
        assert!(last.content.ends_with("Question: Where do herons wait?"));
    }

    #[test]
    fn windows_keep_the_chunk_and_share_the_rest() {
        let text = "aaaa bbbb cccc dddd eeee ffff gggg";
        // Everything fits.
        assert_eq!(window(text, 10, 14, 0, 34, 100), text);
        // Only the chunk and a little on each side, cut at words.
        let w = window(text, 15, 19, 0, 34, 14);
        assert!(w.contains("dddd") && w.len() <= 14, "{w:?}");
        assert!(!w.starts_with(char::is_whitespace), "{w:?}");
        // A chunk longer than the budget: its start.
        assert_eq!(window(text, 0, 34, 0, 34, 9), "aaaa bbbb");
        // Multi-byte text never splits a character.
        let t = "ééééé ñññññ üüüüü";
        let w = window(t, 12, 22, 0, t.len() as i64, 13);
        assert!(w.contains("ññ"), "{w:?}");
    }
}
