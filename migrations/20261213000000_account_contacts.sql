-- An account's contacts for its page, champions first, each with the last day they used the
-- product (the newest active day walking back from today, not every day of the account's
-- history: (account_id, day, user_ref) is the roll-up's key).
--
-- It lives in a function so that its plan is kept per connection, as the timeline's is: sent
-- as a statement, it was planned afresh on every call, the planning costing more than the
-- run (about 0.07 ms of the page's 0.14 ms here), because its estimate for one account's
-- contacts never favoured the kept plan.
create function account_contacts(p_account uuid)
returns table (external_id text, name text, email text, title text, is_champion boolean, last_active date)
language plpgsql stable set plan_cache_mode = force_generic_plan as $$
#variable_conflict use_column
begin
    return query
    select c.external_id, c.name, c.email, c.title, c.is_champion, l.day
    from contacts c
    left join lateral (select u.day from usage_user_daily u
                       where u.account_id = c.account_id and u.user_ref = c.user_ref and u.events > 0
                       order by u.day desc limit 1) l on true
    where c.account_id = p_account
    order by c.is_champion desc, c.name
    limit 50;
end $$;
