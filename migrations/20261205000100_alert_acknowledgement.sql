-- Model alerts are acknowledged and muted instead of repeating: while an alert is open (not
-- acknowledged), the same kind and subject seen again updates it (last seen, times seen,
-- latest message) and emails nobody; a mute silences a kind and subject until a day.
alter table model_alerts
    add column last_seen date,
    add column seen integer not null default 1,
    add column acknowledged_at timestamptz,
    add column acknowledged_by uuid references users (id);
update model_alerts set last_seen = day;
alter table model_alerts alter column last_seen set not null;
create index model_alerts_open_idx on model_alerts (kind, subject) where acknowledged_at is null;

create table model_alert_mutes (
    kind text not null,
    subject text not null,
    -- Silent up to and including this run day.
    until date not null,
    muted_by uuid references users (id),
    created_at timestamptz not null default now(),
    primary key (kind, subject)
);
