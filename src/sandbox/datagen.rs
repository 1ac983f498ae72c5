//! Deterministic records: the value of field F on row i of object O is a pure function of
//! (seed, O, F, i, version), where version and deletion come from a small overlay of
//! mutations. Nothing is stored per row, so a million-row object costs no memory.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::ids::make_id;
use super::schema::{FieldDef, FieldType, ObjectDef, Schema, address_key};
use super::wire::days_from_civil;

/// A generated value, close to how it appears on the wire.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    /// Days since 1970-01-01.
    Date(i64),
    /// Milliseconds since the epoch, UTC.
    DateTime(i64),
    Object(Vec<(&'static str, Val)>),
}

/// What mutations did to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowState {
    pub version: u32,
    /// SystemModstamp and LastModifiedDate of the latest mutation (ms).
    pub modstamp: i64,
    /// When the row went to the recycle bin (ms).
    pub deleted: Option<i64>,
    /// Hard-deleted or purged from the recycle bin: not even queryAll returns it.
    pub purged: bool,
}

impl RowState {
    /// Returned by neither query nor queryAll.
    pub fn is_purged(st: Option<&RowState>) -> bool {
        st.is_some_and(|s| s.purged)
    }
}

const FIRST: [&str; 24] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances", "Linus",
    "Radia", "Dennis", "Sophie", "John", "Hedy", "Tim", "Karen", "Niklaus", "Lynn", "Bjarne",
    "Anita", "Guido", "Mary", "James",
];
const LAST: [&str; 24] = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Allen",
    "Torvalds",
    "Perlman",
    "Ritchie",
    "Wilson",
    "Backus",
    "Lamarr",
    "Berners-Lee",
    "Jones",
    "Wirth",
    "Conway",
    "Stroustrup",
    "Borg",
    "van Rossum",
    "Keller",
    "Gosling",
];
const COMPANY_A: [&str; 16] = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Oscorp",
    "Aperture",
    "Massive",
    "Bluth",
];
const COMPANY_B: [&str; 12] = [
    "Industries",
    "Logistics",
    "Systems",
    "Foods",
    "Energy",
    "Labs",
    "Holdings",
    "Partners",
    "Dynamics",
    "Media",
    "Robotics",
    "Analytics",
];
const CITIES: [(&str, &str, &str, &str, f64, f64); 10] = [
    ("San Francisco", "CA", "US", "94105", 37.7897, -122.3972),
    ("New York", "NY", "US", "10001", 40.7506, -73.9972),
    ("Austin", "TX", "US", "78701", 30.2711, -97.7437),
    ("Chicago", "IL", "US", "60601", 41.8858, -87.6181),
    ("London", "England", "GB", "EC1A 1BB", 51.5202, -0.0979),
    ("Paris", "Île-de-France", "FR", "75001", 48.8606, 2.3376),
    ("Berlin", "Berlin", "DE", "10115", 52.5323, 13.3846),
    ("Tokyo", "Tokyo", "JP", "100-0001", 35.6852, 139.7528),
    ("Sydney", "NSW", "AU", "2000", -33.8688, 151.2093),
    ("Toronto", "ON", "CA", "M5H 2N2", 43.6511, -79.3839),
];
const STREETS: [&str; 8] = [
    "Market St",
    "Main St",
    "Broadway",
    "High Street",
    "Elm Ave",
    "Ocean Dr",
    "King St",
    "Mission St",
];
const WORDS: [&str; 16] = [
    "renewal",
    "pipeline",
    "quarterly",
    "priority",
    "customer",
    "integration",
    "pilot",
    "onboarding",
    "migration",
    "forecast",
    "review",
    "contract",
    "support",
    "expansion",
    "analytics",
    "rollout",
];

/// 2024-01-01T00:00:00Z: generated rows were created after this instant.
const ANCHOR_MS: i64 = 1_704_067_200_000;
const ROW_SPACING_MS: i64 = 37_000;

pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What happens to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Update,
    /// To the recycle bin: queryAll still returns it with IsDeleted = true.
    Delete,
    /// Past the recycle bin (hard delete): gone from queryAll too.
    HardDelete,
    /// Empty the row out of the recycle bin.
    Purge,
}

pub struct Dataset {
    pub seed: u64,
    pub schema: Arc<Schema>,
    counts: Vec<u64>,
    /// Per object, per field: the object a reference field points at (resolved once).
    targets: Vec<Vec<Option<usize>>>,
    overlays: Vec<RwLock<HashMap<u64, RowState>>>,
}

impl Dataset {
    pub fn new(seed: u64, schema: Arc<Schema>, counts: Vec<u64>) -> Dataset {
        let overlays = schema
            .objects
            .iter()
            .map(|_| RwLock::new(HashMap::new()))
            .collect();
        let targets = schema
            .objects
            .iter()
            .map(|o| {
                o.fields
                    .iter()
                    .map(|f| f.reference_to.iter().find_map(|t| schema.index_of(t)))
                    .collect()
            })
            .collect();
        Dataset {
            seed,
            schema,
            counts,
            targets,
            overlays,
        }
    }

    pub fn count(&self, obj: usize) -> u64 {
        self.counts.get(obj).copied().unwrap_or(0)
    }

    pub fn object(&self, obj: usize) -> &ObjectDef {
        &self.schema.objects[obj]
    }

    /// A consistent copy of one object's overlay, taken once per query.
    pub fn overlay(&self, obj: usize) -> HashMap<u64, RowState> {
        match self.overlays[obj].read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn live_count(&self, obj: usize) -> u64 {
        let deleted = match self.overlays[obj].read() {
            Ok(g) => g.values().filter(|s| s.deleted.is_some()).count(),
            Err(p) => p
                .into_inner()
                .values()
                .filter(|s| s.deleted.is_some())
                .count(),
        };
        self.count(obj).saturating_sub(deleted as u64)
    }

    /// Applies one mutation: a new version (update) or a deletion, stamped `now_ms`.
    /// Returns when the row was deleted, if this call deleted it.
    pub fn mutate_row(&self, obj: usize, row: u64, delete: bool, now_ms: i64) -> Option<i64> {
        self.change_row(
            obj,
            row,
            if delete {
                Change::Delete
            } else {
                Change::Update
            },
            now_ms,
        )
    }

    /// Deletes a live row past the recycle bin (`hard`) or moves a recycled row past it
    /// (`Change::Purge`); returns the deletion time when the row was live before.
    pub fn change_row(&self, obj: usize, row: u64, change: Change, now_ms: i64) -> Option<i64> {
        if row >= self.count(obj) {
            return None;
        }
        let mut g = match self.overlays[obj].write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if change == Change::Purge {
            if let Some(st) = g.get_mut(&row).filter(|s| s.deleted.is_some()) {
                st.purged = true;
            }
            return None;
        }
        let st = g.entry(row).or_insert(RowState {
            version: 0,
            modstamp: now_ms,
            deleted: None,
            purged: false,
        });
        if st.deleted.is_some() {
            return None;
        }
        st.modstamp = now_ms.max(st.modstamp);
        match change {
            Change::Update => {
                st.version += 1;
                None
            }
            Change::Delete | Change::HardDelete => {
                st.deleted = Some(st.modstamp);
                st.purged = change == Change::HardDelete;
                st.deleted
            }
            Change::Purge => None,
        }
    }

    /// Rows of `obj` in the recycle bin (deleted, not purged).
    pub fn recycled_rows(&self, obj: usize) -> Vec<u64> {
        let g = match self.overlays[obj].read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        g.iter()
            .filter(|(_, s)| s.deleted.is_some() && !s.purged)
            .map(|(r, _)| *r)
            .collect()
    }

    pub fn created_ms(&self, obj: usize, row: u64) -> i64 {
        let jitter = (mix(self.seed ^ self.object(obj).salt ^ row) % 30_000) as i64;
        ANCHOR_MS + row as i64 * ROW_SPACING_MS + jitter
    }

    pub fn base_modstamp_ms(&self, obj: usize, row: u64) -> i64 {
        let h = mix(self.seed ^ self.object(obj).salt.rotate_left(7) ^ row);
        self.created_ms(obj, row) + (h % (60 * 86_400_000)) as i64
    }

    pub fn modstamp_ms(&self, obj: usize, row: u64, st: Option<&RowState>) -> i64 {
        match st {
            Some(s) => s.modstamp,
            None => self.base_modstamp_ms(obj, row),
        }
    }

    pub fn id(&self, obj: usize, row: u64) -> String {
        make_id(&self.object(obj).key_prefix, row)
    }

    fn hash(&self, obj: usize, f: &FieldDef, row: u64, version: u32) -> u64 {
        mix(self.seed
            ^ self.object(obj).salt
            ^ f.salt.rotate_left(17)
            ^ row.wrapping_mul(0x2545_f491_4f6c_dd1d)
            ^ u64::from(version).wrapping_mul(0x9e37_79b9))
    }

    /// The value of field `fi` on `row`; `st` is that row's overlay entry.
    pub fn value(&self, obj: usize, fi: usize, row: u64, st: Option<&RowState>) -> Val {
        let o = self.object(obj);
        let f = &o.fields[fi];
        let version = st.map(|s| s.version).unwrap_or(0);
        match f.name.as_str() {
            "Id" => return Val::Str(self.id(obj, row)),
            "IsDeleted" => return Val::Bool(st.is_some_and(|s| s.deleted.is_some())),
            "CreatedDate" => return Val::DateTime(self.created_ms(obj, row)),
            "SystemModstamp" | "LastModifiedDate" => {
                return Val::DateTime(self.modstamp_ms(obj, row, st));
            }
            "MasterRecordId" => return Val::Null,
            _ => {}
        }
        let stable =
            matches!(f.name.as_str(), "CreatedById" | "Username" | "Alias") || f.auto_number;
        let h = self.hash(obj, f, row, if stable { 0 } else { version });
        if f.nillable
            && !f.name_field
            && f.compound.is_none()
            && h % 5 == 0
            && f.ftype != FieldType::Address
        {
            return Val::Null;
        }
        self.typed_value(obj, fi, row, h, st)
    }

    fn typed_value(&self, obj: usize, fi: usize, row: u64, h: u64, st: Option<&RowState>) -> Val {
        let o = self.object(obj);
        let f = &o.fields[fi];
        let n = f.name.as_str();
        let pick = |list: &[&str], salt: u64| {
            list[(mix(h ^ salt) % list.len() as u64) as usize].to_string()
        };
        match f.ftype {
            FieldType::Id => Val::Str(self.id(obj, row)),
            FieldType::Boolean => Val::Bool(h % 3 == 0),
            FieldType::Reference => self.reference(obj, fi, row, h),
            FieldType::Picklist | FieldType::Combobox if !f.picklist.is_empty() => {
                Val::Str(f.picklist[(h % f.picklist.len() as u64) as usize].clone())
            }
            FieldType::MultiPicklist if !f.picklist.is_empty() => {
                let a = (h % f.picklist.len() as u64) as usize;
                let b = ((h >> 20) % f.picklist.len() as u64) as usize;
                let mut v = vec![f.picklist[a.min(b)].clone()];
                if a != b {
                    v.push(f.picklist[a.max(b)].clone());
                }
                Val::Str(v.join(";"))
            }
            FieldType::Address => {
                let entries = o
                    .address_components(&f.name)
                    .into_iter()
                    .map(|ci| {
                        (
                            address_key(&o.fields[ci].name),
                            self.value(obj, ci, row, st),
                        )
                    })
                    .collect();
                Val::Object(entries)
            }
            FieldType::Location => Val::Object(vec![
                ("latitude", Val::Num(37.79)),
                ("longitude", Val::Num(-122.4)),
            ]),
            FieldType::Int => Val::Int(match n {
                "NumberOfEmployees" => (h % 50_000) as i64 + 1,
                "FiscalYear" => 2024 + (h % 3) as i64,
                "FiscalQuarter" => 1 + (h % 4) as i64,
                _ => (h % 1000) as i64,
            }),
            FieldType::Currency => {
                Val::Num(((h % 5_000_000) as f64) + if h & 1 == 0 { 0.0 } else { 0.5 })
            }
            FieldType::Percent => Val::Num((h % 101) as f64),
            FieldType::Double => {
                if let Some(city) = f.compound.as_ref().map(|c| self.city(obj, c, row, st)) {
                    if n.ends_with("Latitude") {
                        return Val::Num(city.4);
                    }
                    if n.ends_with("Longitude") {
                        return Val::Num(city.5);
                    }
                }
                Val::Num((h % 100_000) as f64 / 100.0)
            }
            FieldType::Date if n == "Birthdate" => {
                Val::Date(days_from_civil(1950, 1, 1) + (h % (50 * 365)) as i64)
            }
            FieldType::Date => Val::Date(days_from_civil(2024, 1, 1) + (h % 900) as i64),
            FieldType::DateTime => Val::DateTime(ANCHOR_MS + (h % (700 * 86_400_000)) as i64),
            FieldType::Time => Val::Str(format!("{:02}:{:02}:00.000Z", h % 24, (h >> 8) % 60)),
            FieldType::Email => {
                // A person's own email follows their name; other addresses are random people.
                let (first, last) = match (n, o.person_name) {
                    ("Email", Some(parts)) => self.person(obj, parts, row, st),
                    _ => (
                        FIRST[(mix(h ^ 1) % 24) as usize],
                        LAST[(mix(h ^ 2) % 24) as usize],
                    ),
                };
                Val::Str(format!(
                    "{}.{}{}@{}.example.com",
                    first.to_lowercase(),
                    last.to_lowercase().replace(' ', ""),
                    row,
                    COMPANY_A[(mix(h ^ 3) % 16) as usize].to_lowercase()
                ))
            }
            FieldType::Phone => {
                Val::Str(format!("({}) 555-{:04}", 200 + h % 700, (h >> 12) % 10_000))
            }
            FieldType::Url => Val::Str(format!(
                "https://www.{}{}.example.com",
                pick(&COMPANY_A, 4).to_lowercase(),
                row
            )),
            FieldType::TextArea if f.compound.is_some() => {
                Val::Str(format!("{} {}", 1 + h % 9_000, pick(&STREETS, 5)))
            }
            FieldType::TextArea => Val::Str(format!(
                "{} {} {} for row {row}.",
                pick(&WORDS, 6),
                pick(&WORDS, 7),
                pick(&WORDS, 8)
            )),
            _ => Val::Str(self.text(obj, f, row, h, st)),
        }
    }

    fn city(
        &self,
        obj: usize,
        compound: &str,
        row: u64,
        st: Option<&RowState>,
    ) -> (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        f64,
        f64,
    ) {
        let v = st.map(|s| s.version).unwrap_or(0);
        let h = mix(self.seed
            ^ self.object(obj).salt
            ^ super::schema::fnv1a(compound.as_bytes())
            ^ row
            ^ (u64::from(v) << 40));
        CITIES[(h % CITIES.len() as u64) as usize]
    }

    fn text(&self, obj: usize, f: &FieldDef, row: u64, h: u64, st: Option<&RowState>) -> String {
        let o = self.object(obj);
        let n = f.name.as_str();
        if let Some(c) = f.compound.as_deref().filter(|c| *c != "Name") {
            let city = self.city(obj, c, row, st);
            let part = address_key(n);
            return match part {
                "city" => city.0,
                "state" => city.1,
                "country" => city.2,
                "postalCode" => city.3,
                _ => "Address",
            }
            .to_string();
        }
        if f.auto_number {
            return match o.name.as_str() {
                "Case" => format!("{:08}", row + 1),
                _ => format!("{}-{:06}", o.key_prefix.to_uppercase(), row + 1),
            };
        }
        match (n, o.person_name.map(|p| self.person(obj, p, row, st))) {
            ("FirstName", Some((first, _))) => first.to_string(),
            ("LastName", Some((_, last))) => last.to_string(),
            ("Name", Some((first, last))) => format!("{first} {last}"),
            _ => self.plain_text(obj, f, row, h),
        }
    }

    /// First and last name of a person row (Contact, Lead, User), consistent across fields.
    fn person(
        &self,
        obj: usize,
        (fi, li): (usize, usize),
        row: u64,
        st: Option<&RowState>,
    ) -> (&'static str, &'static str) {
        let o = self.object(obj);
        let version = st.map(|s| s.version).unwrap_or(0);
        let first = self.hash(obj, &o.fields[fi], row, version);
        let last = self.hash(obj, &o.fields[li], row, version);
        (FIRST[(first % 24) as usize], LAST[(last % 24) as usize])
    }

    fn plain_text(&self, obj: usize, f: &FieldDef, row: u64, h: u64) -> String {
        let o = self.object(obj);
        let n = f.name.as_str();
        let pick =
            |list: &[&'static str]| -> &'static str { list[(h % list.len() as u64) as usize] };
        match n {
            "Name" | "Company" | "CompanyName" | "SuppliedCompany" => {
                format!(
                    "{} {} {}",
                    COMPANY_A[(h % 16) as usize],
                    COMPANY_B[((h >> 8) % 12) as usize],
                    row
                )
            }
            "Username" => format!("user{row}@sandbox.syncdeck.test"),
            "Alias" => format!("u{row}"),
            "CommunityNickname" => format!("user{row}"),
            "Title" => pick(&[
                "CEO",
                "CFO",
                "VP Sales",
                "Engineer",
                "Buyer",
                "Director of IT",
            ])
            .into(),
            "Department" => {
                pick(&["Sales", "Finance", "Engineering", "Operations", "Support"]).into()
            }
            "Subject" => format!("{} {}", pick(&WORDS), row),
            "TickerSymbol" => format!(
                "{}{}",
                COMPANY_A[(h % 16) as usize]
                    .to_uppercase()
                    .chars()
                    .take(3)
                    .collect::<String>(),
                h % 10
            ),
            "YearStarted" => format!("{}", 1950 + h % 74),
            _ if n.ends_with("Phone") => {
                format!("({}) 555-{:04}", 200 + h % 700, (h >> 12) % 10_000)
            }
            _ if f.name_field => format!("{} {}", o.label, row),
            _ => {
                let max = if f.length == 0 {
                    255
                } else {
                    f.length as usize
                };
                let mut s = format!("{} {}", pick(&WORDS), h % 100_000);
                s.truncate(max);
                s
            }
        }
    }

    fn reference(&self, obj: usize, fi: usize, row: u64, h: u64) -> Val {
        let f = &self.object(obj).fields[fi];
        let Some(target) = self.targets[obj][fi] else {
            return if f.nillable {
                Val::Null
            } else {
                Val::Str(make_id(
                    fallback_prefix(f.reference_to.first().map(String::as_str)),
                    0,
                ))
            };
        };
        let count = self.count(target);
        if count == 0 {
            return Val::Null;
        }
        if target == obj && f.nillable {
            // Hierarchies (ParentId, ReportsToId) point at an earlier row so trees are acyclic.
            if row == 0 {
                return Val::Null;
            }
            return Val::Str(self.id(obj, h % row));
        }
        Val::Str(self.id(target, h % count))
    }
}

fn fallback_prefix(target: Option<&str>) -> &'static str {
    match target {
        Some("User") => "005",
        Some("Group") => "00G",
        Some("RecordType") => "012",
        Some("Profile") => "00e",
        _ => "000",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::config::SchemaSource;

    fn dataset() -> Dataset {
        let schema = Arc::new(Schema::load(&SchemaSource::BuiltIn).unwrap());
        let counts = schema.objects.iter().map(|_| 100).collect();
        Dataset::new(7, schema, counts)
    }

    #[test]
    fn values_are_deterministic_and_change_with_version() {
        let d = dataset();
        let acc = d.schema.index_of("Account").unwrap();
        let name = d.object(acc).field_index("Name").unwrap();
        assert_eq!(d.value(acc, name, 5, None), d.value(acc, name, 5, None));
        let st = RowState {
            version: 1,
            modstamp: 0,
            deleted: None,
            purged: false,
        };
        assert_ne!(
            d.value(acc, name, 5, None),
            d.value(acc, name, 5, Some(&st))
        );
    }

    #[test]
    fn references_point_at_existing_rows() {
        let d = dataset();
        let con = d.schema.index_of("Contact").unwrap();
        let fi = d.object(con).field_index("OwnerId").unwrap();
        let Val::Str(id) = d.value(con, fi, 3, None) else {
            panic!("owner is required")
        };
        let (prefix, row) = crate::sandbox::ids::parse_id(&id).unwrap();
        assert_eq!(prefix, "005");
        assert!(row < 100);
    }

    #[test]
    fn required_fields_are_filled_and_people_are_consistent() {
        let d = dataset();
        let user = d.schema.index_of("User").unwrap();
        let created_by = d.object(user).field_index("CreatedById").unwrap();
        assert!(matches!(d.value(user, created_by, 0, None), Val::Str(_)));
        let con = d.schema.index_of("Contact").unwrap();
        let field = |n: &str| d.object(con).field_index(n).unwrap();
        for row in 0..20 {
            let (Val::Str(first), Val::Str(email)) = (
                d.value(con, field("FirstName"), row, None),
                d.value(con, field("Email"), row, None),
            ) else {
                continue;
            };
            assert!(
                email.starts_with(&format!("{}.", first.to_lowercase())),
                "{first} {email}"
            );
        }
    }

    #[test]
    fn mutation_moves_systemmodstamp_forward() {
        let d = dataset();
        let acc = d.schema.index_of("Account").unwrap();
        let before = d.base_modstamp_ms(acc, 9);
        d.mutate_row(acc, 9, false, before + 1000);
        let ov = d.overlay(acc);
        assert_eq!(d.modstamp_ms(acc, 9, ov.get(&9)), before + 1000);
    }
}
