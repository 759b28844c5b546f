-- Column mappings: a source's own headers mapped to Keel's columns, saved under a name per
-- source ("Salesforce accounts") and used by uploads, the API and `keel import`.
create table column_mappings (
    name text primary key constraint column_mappings_name_length check (length(name) between 1 and 80),
    entity text not null,
    -- {"keel_column": "Source header", ...}
    columns jsonb not null,
    created_by text not null,
    updated_at timestamptz not null default now()
);

-- The mapping a staged upload is read through, once chosen.
alter table ingest_uploads add column mapping text constraint ingest_uploads_mapping_fk
    references column_mappings (name) on update cascade on delete set null;
