use super::*;
use std::os::unix::fs::PermissionsExt;

const COMMENTED: &str = r#"# Top comment, kept.

[[source]]   # the production org
# id comment
id = "acme"      # trailing id comment
name = "Acme"
login_url = "https://login.salesforce.com"
client_id = "cid"   # consumer key
frequency = "1h"    # hourly is plenty
sync_enabled = true # on

# Account fields, hand-picked
[source.objects.Account]
fields = [
    "Name",   # the name
    "Industry",
]

[source.objects.Contact] # contacts
fields = ["Email"]

[[source]]
id = "sandbox"
name = "Local"
login_url = "http://127.0.0.1:8443"
client_id = "x"

# A section for another tool: `config check` flags it, but edits keep it.
[x-deploy]
owner = "ops"   # team
"#;

/// The typed config, tolerating the `[x-deploy]` section the fixture carries.
fn typed(text: &str) -> Result<Config, toml::de::Error> {
    toml::from_str(text)
}

fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn edit(f: impl FnOnce(&mut Editor)) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, COMMENTED);
    let mut editor = Editor::load(&path).unwrap();
    f(&mut editor);
    editor.save().unwrap();
    std::fs::read_to_string(&path).unwrap()
}

#[test]
fn set_frequency_changes_only_that_value() {
    let out = edit(|e| e.set_frequency("acme", Frequency::M15).unwrap());
    assert_eq!(
        out,
        COMMENTED.replace(
            "frequency = \"1h\"    # hourly",
            "frequency = \"15m\"    # hourly"
        )
    );
}

#[test]
fn toggles_and_threshold_keep_comments_and_add_missing_keys_in_place() {
    let out = edit(|e| {
        e.set_sync_enabled("acme", false).unwrap();
        e.set_quota_threshold("sandbox", 65).unwrap();
    });
    let expected = COMMENTED
        .replace("sync_enabled = true # on", "sync_enabled = false # on")
        .replace(
            "client_id = \"x\"\n",
            "client_id = \"x\"\nquota_threshold_percent = 65\n",
        );
    assert_eq!(out, expected);
}

#[test]
fn replacing_fields_keeps_layout_and_removing_last_field_drops_the_object() {
    let out = edit(|e| {
        e.set_object_fields("acme", "Account", vec!["Name".into(), "Phone".into()])
            .unwrap();
        e.set_object_fields("acme", "Contact", vec![]).unwrap();
    });
    let expected = COMMENTED
        .replace(
            "fields = [\n    \"Name\",   # the name\n    \"Industry\",\n]",
            "fields = [\n    \"Name\",\n    \"Phone\",\n]",
        )
        .replace(
            "[source.objects.Contact] # contacts\nfields = [\"Email\"]\n\n",
            "",
        );
    assert_eq!(out, expected);
    let config = typed(&out).unwrap();
    assert_eq!(config.sources[0].objects.len(), 1);
}

#[test]
fn new_object_table_is_created_under_its_source() {
    let out = edit(|e| {
        e.set_object_fields("sandbox", "Invoice__c", vec!["Total__c".into()])
            .unwrap()
    });
    let config = typed(&out).unwrap();
    assert_eq!(
        config.sources[1].objects["Invoice__c"].fields,
        vec!["Total__c".to_string()]
    );
    assert!(!config.sources[0].objects.contains_key("Invoice__c"));
    // Everything before the sandbox source is untouched.
    let head = COMMENTED
        .split("[[source]]\nid = \"sandbox\"")
        .next()
        .unwrap();
    assert!(out.starts_with(head));
}

#[test]
fn add_source_appends_a_complete_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, COMMENTED);
    let mut editor = Editor::load(&path).unwrap();
    let mut new = typed(COMMENTED).unwrap().sources[1].clone();
    new.id = "second".into();
    new.objects.insert(
        "Lead".into(),
        crate::config::ObjectSelection {
            fields: vec!["Company".into()],
        },
    );
    editor.add_source(&new).unwrap();
    assert!(matches!(
        editor.add_source(&new),
        Err(EditError::DuplicateSource(_))
    ));
    editor.save().unwrap();
    let out = std::fs::read_to_string(&path).unwrap();
    let (head, tail) = COMMENTED.split_once("# A section for").unwrap();
    assert!(out.starts_with(head), "{out}");
    assert!(out.ends_with(&format!("# A section for{tail}")), "{out}");
    let config = typed(&out).unwrap();
    assert_eq!(config.sources.len(), 3);
    assert_eq!(config.sources[2], new);
}

#[test]
fn conflict_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, COMMENTED);
    let mut editor = Editor::load(&path).unwrap();
    let theirs = COMMENTED.replace("name = \"Acme\"", "name = \"Acme (edited by hand)\"");
    std::fs::write(&path, &theirs).unwrap();
    editor.set_frequency("acme", Frequency::M30).unwrap();
    let err = editor.save().unwrap_err();
    assert!(matches!(err, EditError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("changed on disk"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );
}

#[test]
fn save_is_atomic_keeps_mode_and_updates_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, COMMENTED);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let inode_before = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&path).unwrap());
    let mut editor = Editor::load(&path).unwrap();
    editor.set_frequency("acme", Frequency::H6).unwrap();
    editor.save().unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o640);
    // Replaced by rename, not rewritten in place.
    assert_ne!(std::os::unix::fs::MetadataExt::ino(&meta), inode_before);
    // A second edit after a save is not a conflict.
    editor.set_frequency("acme", Frequency::H12).unwrap();
    editor.save().unwrap();
    assert_eq!(
        typed(&std::fs::read_to_string(&path).unwrap())
            .unwrap()
            .sources[0]
            .frequency,
        Frequency::H12
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn invalid_result_is_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, COMMENTED);
    let mut editor = Editor::load(&path).unwrap();
    editor.set_quota_threshold("acme", 150).unwrap();
    let err = editor.save().unwrap_err();
    assert!(matches!(err, EditError::Invalid { .. }));
    assert!(
        err.to_string().contains("quota_threshold_percent is 150"),
        "{err}"
    );
    editor
        .set_object_fields("acme", "Bad Object", vec!["Name".into()])
        .unwrap();
    assert!(editor.save().is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), COMMENTED);
}

#[test]
fn unknown_source_and_invalid_file_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, COMMENTED);
    let mut editor = Editor::load(&path).unwrap();
    assert!(matches!(
        editor.set_frequency("nope", Frequency::H1),
        Err(EditError::UnknownSource(_))
    ));
    std::fs::write(&path, "[[source]]\nid = \"unterminated\n").unwrap();
    let err = Editor::load(&path).unwrap_err();
    assert!(matches!(err, EditError::Invalid { .. }));
    assert!(err.to_string().contains(":2:19: syntax error"), "{err}");
}

#[test]
fn missing_file_is_created_on_save() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let mut editor = Editor::load(&path).unwrap();
    let source = typed(COMMENTED).unwrap().sources[0].clone();
    editor.add_source(&source).unwrap();
    editor.save().unwrap();
    let config = crate::config::load(&path).unwrap();
    assert_eq!(config.sources, vec![source]);
    assert!(editor.config().is_ok());
}

#[test]
fn inline_objects_stay_inline() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[source]]\nid = \"a\"\nname = \"A\"\nlogin_url = \"https://x.my.salesforce.com\"\nclient_id = \"c\"\nobjects = { Account = { fields = [\"Name\"] } }\n";
    let path = write(&dir, text);
    let mut editor = Editor::load(&path).unwrap();
    editor
        .set_object_fields("a", "Lead", vec!["Company".into()])
        .unwrap();
    editor.save().unwrap();
    let out = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        out,
        text.replace("] } }", "] } , Lead = { fields = [\"Company\"] } }") // toml_edit keeps the old trailing space
    );
}

#[test]
fn saving_through_a_symlinked_config_writes_its_target_and_keeps_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let real_dir = dir.path().join("dotfiles");
    std::fs::create_dir(&real_dir).unwrap();
    let real = real_dir.join("syncdeck.toml");
    std::fs::write(&real, COMMENTED).unwrap();
    let link = dir.path().join("config.toml");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let mut editor = Editor::load(&link).unwrap();
    editor.set_frequency("acme", Frequency::H6).unwrap();
    editor.save().unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link was replaced by a file"
    );
    let saved = typed(&std::fs::read_to_string(&real).unwrap()).unwrap();
    assert_eq!(saved.sources[0].frequency, Frequency::H6);
    // A second save through the link is not mistaken for someone else's edit.
    editor.set_frequency("acme", Frequency::H12).unwrap();
    editor.save().unwrap();
    let saved = typed(&std::fs::read_to_string(&real).unwrap()).unwrap();
    assert_eq!(saved.sources[0].frequency, Frequency::H12);
}
