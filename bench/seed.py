"""Seeds a CloudDocs SQLite database with a large document world, directly in SQL.

The schema is created by the server's migrations; this only inserts rows. The benchmark
user (already registered over HTTP) becomes an editor of one org and is shared a few
documents of the others, so GET /documents must filter a 100k-document table.
"""
import sqlite3
import sys
import time
import uuid

db_path, user_id, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
orgs = 20
con = sqlite3.connect(db_path)
con.execute("PRAGMA busy_timeout = 10000")
now = int(time.time() * 1000)
cur = con.cursor()
author = str(uuid.uuid4())
cur.execute(
    "INSERT INTO users (id, email, display_name, password_hash, platform_admin, disabled, created_at, updated_at) "
    "VALUES (?, ?, 'Bench Author', 'x', 0, 0, ?, ?)",
    (author, f"author-{author}@bench.local", now, now),
)
org_ids = [str(uuid.uuid4()) for _ in range(orgs)]
for i, org in enumerate(org_ids):
    cur.execute("INSERT INTO orgs (id, name, created_by, created_at) VALUES (?, ?, ?, ?)", (org, f"org {i}", author, now))
    cur.execute("INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, 'admin', ?)", (org, author, now))
# The benchmark user: editor of org 0, viewer of org 1, outsider elsewhere.
cur.execute("INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, 'editor', ?)", (org_ids[0], user_id, now))
cur.execute("INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, 'viewer', ?)", (org_ids[1], user_id, now))
rows = []
shares = []
for i in range(total):
    # UUIDv7 layout: 48-bit milliseconds, version 7, variant 0b10; time-ordered like the server's ids.
    doc = uuid.UUID(int=((now - total + i) << 80) | (0x7 << 76) | (0b10 << 62) | i)
    org = org_ids[i % orgs]
    published = 1 if i % 3 == 0 else 0
    rows.append((str(doc), org, author, f"Document {i}", "lorem ipsum " * 20, published, now + i, now + i))
    if i % 997 == 0:
        shares.append((str(doc), user_id, "viewer", now))
cur.executemany(
    "INSERT INTO documents (id, org_id, author_id, title, body, published, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    rows,
)
cur.executemany("INSERT OR IGNORE INTO document_shares (document_id, user_id, role, created_at) VALUES (?, ?, ?, ?)", shares)
con.commit()
print(f"seeded {total} documents in {orgs} orgs; one readable doc id: {rows[0][0]}")
