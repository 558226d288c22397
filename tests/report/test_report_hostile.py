"""The static report where the folder it writes to is booby-trapped or unwritable."""

from __future__ import annotations

from click.testing import CliRunner

from vizzly_tui.cli import main


def report(project, *args: str):
    return CliRunner().invoke(main, ["--project", str(project.root), "report", *args])


def test_a_symlinked_report_folder_never_deletes_or_writes_outside_vizzly(reported, tmp_path):
    outside = tmp_path / "elsewhere"
    (outside / "images").mkdir(parents=True)
    (outside / "images" / "keep.txt").write_text("precious")
    (reported.vizzly_dir / "report").symlink_to(outside, target_is_directory=True)
    result = report(reported)
    assert result.exit_code == 2, result.output
    assert "symbolic link" in result.output
    assert (outside / "images" / "keep.txt").read_text() == "precious"
    assert sorted(p.name for p in outside.rglob("*")) == ["images", "keep.txt"]


def test_a_symlinked_images_folder_or_file_is_never_written_through(reported, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    folder = reported.vizzly_dir / "report"
    folder.mkdir()
    (folder / "images").symlink_to(outside, target_is_directory=True)
    result = report(reported)
    assert result.exit_code == 2 and "symbolic link" in result.output
    assert list(outside.iterdir()) == []
    # A linked image file in a custom --out folder is replaced, not written through.
    (folder / "images").unlink()
    site = tmp_path / "site"
    assert report(reported, "--out", str(site)).exit_code == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    image = next((site / "images" / "current").iterdir())
    image.unlink()
    image.symlink_to(victim)
    assert report(reported, "--out", str(site)).exit_code == 0
    assert victim.read_text() == "mine"
    assert not image.is_symlink() and image.read_bytes().startswith(b"\x89PNG")


def test_an_unwritable_out_folder_says_which_folder(reported):
    result = report(reported, "--out", "/proc/vizzly-report")
    assert result.exit_code == 2, result.output
    assert "cannot write the report to /proc/vizzly-report" in result.output
    assert "internal error" not in result.output


def test_an_out_folder_given_as_a_link_is_the_users_choice(reported, tmp_path):
    real = tmp_path / "www"
    real.mkdir()
    (tmp_path / "public").symlink_to(real, target_is_directory=True)
    result = report(reported, "--out", str(tmp_path / "public"))
    assert result.exit_code == 0, result.output
    assert (real / "index.html").is_file() and (real / "images").is_dir()


def test_an_image_linked_to_a_file_outside_vizzly_is_not_published(reported, tmp_path):
    # A checked-out .vizzly/ may hold a planted link; the report is often published by CI.
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY")
    current = reported.vizzly_dir / "current"
    victim = sorted(current.iterdir())[0]
    victim.unlink()
    victim.symlink_to(secret)
    result = report(reported, "--out", str(tmp_path / "public"))
    assert result.exit_code == 0, result.output
    published = [p.read_bytes() for p in (tmp_path / "public").rglob("*") if p.is_file()]
    assert not any(b"PRIVATE KEY" in data for data in published)
