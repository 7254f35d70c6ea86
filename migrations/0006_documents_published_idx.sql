-- The document list reads an org's published documents newest first for its viewers
-- (GET /documents): this index is that range, without touching the unpublished rows.
CREATE INDEX documents_org_published_idx ON documents (org_id, published, id);
