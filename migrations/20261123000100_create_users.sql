create type user_role as enum ('admin', 'manager', 'csm', 'sales', 'executive', 'analyst');

create table users (
    id uuid primary key,
    email text not null,
    name text not null,
    role user_role not null,
    manager_id uuid constraint users_manager_fk references users (id),
    password_hash text not null,
    active boolean not null default true,
    -- bumped on password reset or deactivation; sessions carrying an older epoch are void
    session_epoch integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint users_email_lowercase check (email = lower(email)),
    constraint users_no_self_manager check (manager_id <> id)
);
create unique index users_email_key on users (email);
create index users_manager_idx on users (manager_id);
select manage_updated_at('users');
