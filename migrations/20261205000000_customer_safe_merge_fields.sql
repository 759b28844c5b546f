-- Playbook emails go to the customer: their merge fields are customer-safe. {{driver}} (the
-- internal risk wording, "downgraded at the last billing period") becomes {{topic}} (what the
-- CSM would like to talk about, in the customer's terms); {{score}} and {{probability}} are
-- dropped from customer emails. The default outreach's sentence is rephrased to read with it.
update playbooks
set steps = regexp_replace(
        regexp_replace(
            replace(steps::text, 'and noticed {{driver}}.', 'and would like to talk about {{topic}}.'),
            '\{\{\s*driver\s*\}\}', '{{topic}}', 'g'),
        '\{\{\s*(score|probability)\s*\}\}', '', 'g')::jsonb
where steps::text ~ '\{\{\s*(driver|score|probability)\s*\}\}';
