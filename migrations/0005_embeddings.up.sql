-- Embedding cache: one vector per (model, chunk text). Re-ingesting a document only embeds
-- chunks whose text changed; vectors of different models never mix.
CREATE TABLE embeddings (
    model      TEXT    NOT NULL,
    text_hash  TEXT    NOT NULL,
    dims       INTEGER NOT NULL,
    vector     BLOB    NOT NULL,     -- little-endian f32 × dims, L2-normalised
    created_at INTEGER NOT NULL,
    PRIMARY KEY (model, text_hash)
) WITHOUT ROWID;
